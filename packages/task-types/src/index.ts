export { buildCatalog } from "./build-catalog.js";
export type { AnyTaskTypeDef, Catalog } from "./build-catalog.js";
export { crossModuleTasks, defineEdge } from "./edges.js";
export type { AnyCrossModuleEdge, CrossModuleEdge, EdgeSource, SpawnOptions, SpawnedTask } from "./edges.js";
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
export { PLATFORM_NAME, defineTaskType } from "./define.js";
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
export { HOP_PRIORITY_STEP, MAX_HOPS, createCrossModule, nextHop, nextPriority } from "./hops.js";
export type { CrossModuleOptions, HopEdge, HopParams } from "./hops.js";
export { registerAll } from "./register.js";
export type { RegisterAllResult, RegistrableTaskType } from "./register.js";
export { HOSTED_SCHEMA_KEYWORDS, hostedSchemaProblems } from "./schema.js";
export type { ParamSchema, ParamSchemaType } from "./schema.js";
export { extractYouTubeIds } from "./links.js";
