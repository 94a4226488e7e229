import type { Platform, TaskRole, TaskTypeDef } from "./define.js";

/** A task type of a catalog, whatever its params. */
export type AnyTaskTypeDef = TaskTypeDef<object>;

/** A set of task types with its look-ups; built by {@link buildCatalog}. */
export interface Catalog {
  /** Every type, in the order given, each once. Frozen. */
  readonly types: readonly AnyTaskTypeDef[];
  /** The platforms of the types, in order of first appearance. Frozen. */
  readonly platforms: readonly Platform[];
  /** The type of that name, or `undefined` (e.g. to check the type of a claimed task). */
  byName(name: string): AnyTaskTypeDef | undefined;
  /** The types of one platform and role, in catalog order (empty for a platform it does not hold). */
  typesFor(platform: Platform, role: TaskRole): readonly AnyTaskTypeDef[];
  /** The discovery types of each platform (what a discovery app claims). */
  readonly discoveryTypes: Readonly<Record<Platform, readonly AnyTaskTypeDef[]>>;
  /** The item types of each platform (what a processor app claims). */
  readonly itemTypes: Readonly<Record<Platform, readonly AnyTaskTypeDef[]>>;
}

/**
 * A catalog of `types` (e.g. the task types of every platform descriptor). The
 * same definition given twice is kept once; two different definitions of one
 * name are a `TypeError`, since the server keys types by name.
 */
export function buildCatalog(types: Iterable<AnyTaskTypeDef>): Catalog {
  const byName = new Map<string, AnyTaskTypeDef>();
  for (const def of types) {
    const known = byName.get(def.name);
    if (known && known !== def) throw new TypeError(`task type ${def.name} is defined twice`);
    byName.set(def.name, def);
  }
  const all = Object.freeze([...byName.values()]);
  const platforms = Object.freeze([...new Set(all.map((d) => d.platform))]);
  const typesFor = (platform: Platform, role: TaskRole) => Object.freeze(all.filter((d) => d.platform === platform && d.role === role));
  const perPlatform = (role: TaskRole) => Object.freeze(Object.fromEntries(platforms.map((p) => [p, typesFor(p, role)])));
  return Object.freeze({
    types: all,
    platforms,
    byName: (name: string) => byName.get(name),
    typesFor,
    discoveryTypes: perPlatform("discovery"),
    itemTypes: perPlatform("item"),
  });
}
