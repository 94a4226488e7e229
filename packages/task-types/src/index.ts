export {
  CATALOG,
  DISCOVERY_TYPES,
  ITEM_TYPES,
  Reddit,
  YouTube,
  typeByName,
  typesFor,
} from "./catalog.js";
export type {
  AnyTaskTypeDef,
  RedditPostParams,
  RedditSearchParams,
  RedditSearchSort,
  RedditSort,
  RedditSubredditParams,
  RedditTimeFilter,
  YouTubeChannelParams,
  YouTubeMostPopularParams,
  YouTubeSearchParams,
  YouTubeVideoParams,
} from "./catalog.js";
export { defineTaskType } from "./define.js";
export type {
  CreateTaskOptions,
  InvalidTask,
  ParseResult,
  Platform,
  TaskRole,
  TaskTypeDef,
  TaskTypeSpec,
  TypedClaimOptions,
} from "./define.js";
export { TaskParamsError } from "./errors.js";
export type { TaskTypesErrorCode } from "./errors.js";
export { MAX_HOPS, createCrossModule, nextHop } from "./hops.js";
export type { CrossModuleOptions, HopEdge, HopParams } from "./hops.js";
export { registerAll } from "./register.js";
export type { RegisterAllResult, RegistrableTaskType } from "./register.js";
export { HOSTED_SCHEMA_KEYWORDS, hostedSchemaProblems } from "./schema.js";
export type { ParamSchema, ParamSchemaType } from "./schema.js";
export { extractYouTubeIds } from "./links.js";
