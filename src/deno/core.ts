/**
 * Deno's internal `core`, reached the way Deno's own tests reach it: `Deno[Deno.internal].core`;
 * undefined where the fence (gate.ts) does not allow internals.
 *
 * The engine calls a few of its functions beneath Deno's public wrappers, where a wrapper costs
 * what the engine cannot afford (socket.ts for reads, timer.ts for its clock). Each user
 * checks at startup that what it needs behaves as expected and otherwise goes through the public
 * API, so a Deno that moves them loses speed or memory, never behaviour.
 */
import { INTERNALS_ALLOWED } from "./gate.ts";

export const denoCore: Readonly<Record<string, unknown>> | undefined = INTERNALS_ALLOWED
  ? (Deno as unknown as Record<symbol, { core?: Record<string, unknown> } | undefined>)[
    (Deno as unknown as { internal: symbol }).internal
  ]?.core
  : undefined;
