import { describe } from "node:test";
import { itDocumentsItsVariables } from "@prismq/worker-kit/testing";
import { shape } from "../src/config.js";

describe("reddit-discovery --help and README", () => {
  itDocumentsItsVariables({ shape, summaryStart: "reddit-discovery: finds Reddit posts (subreddit ", readme: new URL("../README.md", import.meta.url) });
});
