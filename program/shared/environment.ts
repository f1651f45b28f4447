/**
 * A function's environment as the program builds it: typed against the function's settings schema in
 * `contract/settings.ts`, so a variable the function requires and the program forgets is a type error, and a
 * variable no schema names cannot be set by accident.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { EnvironmentOf, SETTINGS } from "../../contract/settings";

export type SettingsFunction = keyof typeof SETTINGS;

/** The variables function `F` reads, each value a string or an output that resolves to one. */
export type FunctionEnvironment<F extends SettingsFunction> = {
  [K in keyof EnvironmentOf<F>]: pulumi.Input<string>;
};

/** Variables as a function takes them; a variable left undefined (an optional setting) is not set at all. */
export type EnvironmentVariables = Readonly<Record<string, pulumi.Input<string> | undefined>>;

/** The variables that are set, for Lambda (which takes strings only). */
export function definedVariables(environment: EnvironmentVariables): Record<string, pulumi.Input<string>> {
  return Object.fromEntries(
    Object.entries(environment).filter((entry): entry is [string, pulumi.Input<string>] => entry[1] !== undefined),
  );
}
