/**
 * Shared by the component tests: reading back what a component registered under the Pulumi mocks (its
 * descendants, by type and logical name) and the IAM documents on its roles.
 */
import { strict as assert } from "node:assert";
import type * as pulumi from "@pulumi/pulumi";
import {
  type CloudMocks,
  descendantsOf,
  installMocks,
  outputValue,
  type RecordedResource,
  settleRegistrations,
} from "../../testkit/pulumi-mocks";

/** What a test file's `before` hook set up: the mocks, what they record, and the program modules under test. */
export interface Mocked<M> {
  mocks: CloudMocks;
  recorded: RecordedResource[];
  program: M;
}

/**
 * Registers a `before` hook that installs the Pulumi mocks for this file and then loads the program's modules:
 * they must be imported after the mocks, so `load` runs inside the hook. The returned object is filled in by then.
 */
export function useMocks<M>(options: { region: string; stack: string }, load: () => Promise<M>): Mocked<M> {
  const mocked = {} as Mocked<M>;
  before(async () => {
    Object.assign(mocked, await installMocks(options));
    mocked.program = await load();
  });
  return mocked;
}

/** An IAM policy statement as the program writes it. */
export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** IAM fields take one value or a list: always a list. */
export const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** A component's registered descendants, with the lookups the tests use. */
export interface Children {
  children: RecordedResource[];
  /** Every descendant of a type. */
  byType(type: string): RecordedResource[];
  /** The descendant of a type with a logical name; fails when there is none. */
  named(type: string, name: string): RecordedResource;
  /** The only descendant of a type; fails when there are none or several. */
  one(type: string): RecordedResource;
}

export function lookups(children: RecordedResource[]): Children {
  const byType = (type: string) => children.filter((r) => r.type === type);
  return {
    children,
    byType,
    named(type, name) {
      const found = children.find((r) => r.type === type && r.name === name);
      assert.ok(found, `${type} ${name} was not registered`);
      return found;
    },
    one(type) {
      const found = byType(type);
      assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
      return found[0];
    },
  };
}

/** Waits until the component and everything below it is registered, then reads its descendants. */
export async function childrenOf(recorded: RecordedResource[], component: pulumi.Resource): Promise<Children> {
  const urn = await outputValue(component.urn);
  await settleRegistrations(recorded);
  return lookups(descendantsOf(recorded, urn));
}

/** The inline policy document of a role (the RolePolicy whose role is the role's id). */
export function rolePolicy(children: RecordedResource[], role: RecordedResource): Statement[] {
  const policy = children.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.inputs.role === role.state.id);
  assert.ok(policy, `no inline policy on role ${role.name}`);
  return JSON.parse(policy.inputs.policy).Statement;
}

/** Statements as sorted `action resource` grants; every statement must allow (conditions are checked elsewhere). */
export function grantLines(statements: Statement[]): string[] {
  return statements
    .flatMap((s) => {
      assert.equal(s.Effect, "Allow");
      return list(s.Action).flatMap((a) => list(s.Resource).map((r) => `${a} ${r}`));
    })
    .sort();
}

/** Fails on an allowed action with a wildcard. */
export function assertNoWildcardActions(statements: Statement[]): void {
  for (const s of statements.filter((x) => x.Effect === "Allow")) {
    for (const action of list(s.Action)) {
      assert.ok(!action.includes("*"), `statement ${s.Sid} grants the wildcard action ${action}`);
    }
  }
}
