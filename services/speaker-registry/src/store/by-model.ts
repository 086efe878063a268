import { type ModelRef, modelKey } from "@speakers/events";

/**
 * A watched bucket's records grouped by model, removable by KV key alone: a delete or purge carries no value
 * to say which model the key held.
 */
export class ByModel<T> {
  /** model key -> KV key -> record */
  private readonly byModel = new Map<string, Map<string, T>>();
  /** KV key -> model key */
  private readonly modelOfKey = new Map<string, string>();

  set(key: string, model: ModelRef, record: T): void {
    this.remove(key);
    const mk = modelKey(model);
    let entries = this.byModel.get(mk);
    if (entries === undefined) {
      entries = new Map();
      this.byModel.set(mk, entries);
    }
    entries.set(key, record);
    this.modelOfKey.set(key, mk);
  }

  remove(key: string): void {
    const mk = this.modelOfKey.get(key);
    if (mk === undefined) return;
    this.modelOfKey.delete(key);
    const entries = this.byModel.get(mk);
    entries?.delete(key);
    if (entries?.size === 0) this.byModel.delete(mk);
  }

  /** The records of one model with their keys, in no particular order. */
  of(model: ModelRef): [key: string, record: T][] {
    return [...(this.byModel.get(modelKey(model))?.entries() ?? [])];
  }
}
