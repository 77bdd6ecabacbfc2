/**
 * Response header fields as a list, for answers made without a `Headers` object (direct answers,
 * the file server's), and the form every response's fields take once encoded for a head.
 */

/** A handler's header fields as lines of a response head. */
export interface EncodedFields {
  /** `name: value\r\n` for each field, the ones the engine owns left out. */
  lines: string;
  /** Whether the handler set its own Date. */
  hasDate: boolean;
  /**
   * The Content-Length the handler declared, if it is a plain number (it is left out of `lines`:
   * the engine writes its own from the framing it decides, and checks the body against this).
   */
  declaredLength: number | null;
}

/**
 * Header fields in the order they were set, with `Headers`' replace-on-set semantics (names are
 * compared case-insensitively and kept lower-cased), at the cost of an array.
 *
 * A list can be frozen and then shared by many answers (the file server's answers for one file):
 * the engine keeps its encoded lines in `encoded`, so a shared list is checked and encoded once.
 */
export class FieldList implements Iterable<[string, string]> {
  #fields: [string, string][] = [];
  #frozen = false;
  /** These fields as lines of a response head (encode.ts), once made; cleared by `set`. */
  encoded: EncodedFields | null = null;

  constructor(init: Record<string, string> = {}) {
    for (const name in init) this.set(name, init[name]);
  }

  /** Makes the list read-only, so that answers may share it; returns it. */
  freeze(): this {
    this.#frozen = true;
    return this;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  get(name: string): string | null {
    const lower = name.toLowerCase();
    for (const field of this.#fields) if (field[0] === lower) return field[1];
    return null;
  }

  set(name: string, value: string): void {
    if (this.#frozen) throw new TypeError(`cannot set ${name}: these header fields are shared`);
    this.encoded = null;
    const lower = name.toLowerCase();
    for (const field of this.#fields) {
      if (field[0] === lower) {
        field[1] = value;
        return;
      }
    }
    this.#fields.push([lower, value]);
  }

  forEach(callback: (value: string, name: string) => void): void {
    for (const [name, value] of this.#fields) callback(value, name);
  }

  [Symbol.iterator](): Iterator<[string, string]> {
    return this.#fields[Symbol.iterator]();
  }
}
