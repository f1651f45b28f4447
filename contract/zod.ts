/**
 * zod's English messages for the contract's schemas, which are written with zod's mini API (`zod/mini`). The
 * classic API (`import * as z from "zod"`) brings every schema method, JSON Schema output and the English locale
 * into any bundle that imports it (about 70 KB of the webhook's); the mini API is tree-shaken to the functions and
 * checks a schema uses, and sets no locale (every issue would read "Invalid input"), hence this module, imported
 * by every contract module with a schema. Both APIs share `zod/v4/core`, so the program's config (classic)
 * composes these schemas (`z.optional(warmScheduleSchema)`) with the same messages. See docs/webhook.md, "Bundle".
 */
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());
