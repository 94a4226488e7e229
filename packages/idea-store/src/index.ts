/**
 * @prismq/idea-store: the IdeaInspiration model and its storage, SQLite by default and PostgreSQL when shared.
 * Ideas are unique on (sourcePlatform, sourceId): writing the same source item again updates it.
 */
export { IdeaStoreError, type IdeaStoreErrorCode } from "./errors.js";
export {
  SOURCE_TYPES,
  ideaInputSchema,
  type IdeaCountField,
  type IdeaFilter,
  type IdeaInput,
  type IdeaInspiration,
  type IdeaOrder,
  type IdeaTimeField,
  type JsonValue,
  type SourceType,
} from "./model.js";
export { openIdeaStore, resolveStorage, type OpenIdeaStoreOptions, type ResolvedStorage } from "./open.js";
export type { IdeaStore, UpsertResult } from "./types.js";
