import type { AnyPlatformDescriptor } from "@prismq/worker-kit";

const PROBE_URL = "http://sandbox.invalid";

/**
 * Whether a platform runs against its real API given `env`: some credential
 * its sandbox would set (a variable whose sandbox value is not the URL) is set,
 * and no API URL (a variable whose sandbox value is the URL) is. A platform
 * without a sandbox always does.
 */
export function usesRealApi(platform: AnyPlatformDescriptor, env: Readonly<Record<string, string | undefined>>): boolean {
  if (!platform.sandbox) return true;
  const vars = Object.entries(platform.sandbox.env(PROBE_URL));
  const isUrl = ([, v]: [string, string]) => v.startsWith(PROBE_URL);
  return vars.some((e) => !isUrl(e) && !!env[e[0]]) && !vars.some((e) => isUrl(e) && !!env[e[0]]);
}

/** The platform's variables (its descriptor's `config` shape) that `env` sets. */
export function platformEnv(platform: AnyPlatformDescriptor, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of Object.keys(platform.config)) {
    const v = env[name];
    if (v !== undefined) picked[name] = v;
  }
  return picked;
}
