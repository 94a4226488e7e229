export { createRedditClient, sendRawRequest, RedditAuthError, RequestError, StatusCodeError } from "./snoowrap-adapter.js";
export type { RawRequestOptions, RawRequestSettings, RawResponse, RedditClientLogger, RedditClientOptions, Snoowrap } from "./snoowrap-adapter.js";
