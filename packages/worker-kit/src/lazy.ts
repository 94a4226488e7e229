/**
 * Libraries only one mode or one kind of app needs, loaded on first use rather
 * than when worker-kit is imported: a direct-mode app never loads BullMQ and
 * ioredis (about 23 MB resident), a processor never loads the YAML and cron
 * parsers of the sources files. Synchronous (`require` of their CommonJS
 * builds) so that the constructors that use them stay synchronous; the
 * type-only imports elsewhere cost nothing at run time.
 */
import { createRequire } from "node:module";
import type * as Bullmq from "bullmq";
import type * as Ioredis from "ioredis";
import type * as Yaml from "yaml";
import type * as CronParser from "cron-parser";

const require = createRequire(import.meta.url);

export const bullmq = (): typeof Bullmq => require("bullmq") as typeof Bullmq;
export const ioredis = (): typeof Ioredis => require("ioredis") as typeof Ioredis;
export const yaml = (): typeof Yaml => require("yaml") as typeof Yaml;
export const cronParser = (): typeof CronParser => require("cron-parser") as typeof CronParser;
