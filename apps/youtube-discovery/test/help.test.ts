import { describe } from "node:test";
import { itDocumentsItsVariables } from "@prismq/worker-kit/testing";
import { shape } from "../src/config.js";

describe("youtube-discovery --help and README", () => {
  itDocumentsItsVariables({ shape, summaryStart: "youtube-discovery: finds YouTube videos (channel ", readme: new URL("../README.md", import.meta.url) });
});
