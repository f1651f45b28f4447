// Module hook of bench/webhook.ts's measuring child (`node --import` through NODE_OPTIONS): records every file the
// process loads as a module and, when it exits, writes their URLs to $BENCH_LOADED_FILES. The cold child exits
// right after answering its first request, so the list is the cold path: what Node read from the archive from a
// fresh start to the first answer, dynamic imports included, measured instead of inferred from the import graph.
// registerHooks runs the hooks in this thread (module.register's would run in a thread of their own), so the list
// is at hand when the process exits. Only in an untimed run: the hook costs time of its own.
import { writeFileSync } from "node:fs";
import { registerHooks } from "node:module";

const out = process.env.BENCH_LOADED_FILES;
if (!out) throw new Error("webhook-loaded-hooks.mjs: BENCH_LOADED_FILES names no file");
const loaded = [];

registerHooks({
  load(url, context, nextLoad) {
    if (url.startsWith("file:") && !loaded.includes(url)) loaded.push(url);
    return nextLoad(url, context);
  },
});

process.on("exit", () => writeFileSync(out, JSON.stringify(loaded)));
