/**
 * Deno's internal `core`, reached the way Deno's own tests reach it: `Deno[Deno.internal].core`.
 *
 * The engine calls a few of its functions beneath Deno's public wrappers, where a wrapper costs
 * what the engine cannot afford (socket_source.ts for reads, timer.ts for its clock). Each user
 * checks that the function it needs is there and otherwise goes through the public API, so a Deno
 * that moves them loses speed or memory, never behaviour.
 */
export const denoCore: Readonly<Record<string, unknown>> | undefined =
  (Deno as unknown as Record<symbol, { core?: Record<string, unknown> } | undefined>)[
    (Deno as unknown as { internal: symbol }).internal
  ]?.core;
