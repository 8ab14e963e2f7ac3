/**
 * glibc's malloc raises its mmap threshold each time a large block is freed, so after a few
 * near-1 MB NATS messages every later large buffer comes from the heap arenas instead of its own
 * mapping, and freed arenas are rarely handed back: the resident size of a service creeps up
 * while its JS heap stays flat (seen in the fuzz fault test: 177 -> 267 MB RSS over 100,000
 * requests with a 27 MB live heap; 134 -> 137 MB with a fixed threshold). A fixed threshold of
 * 128 KiB gives every large buffer its own mapping, returned to the system when freed.
 * glibc reads it at process start, so it is set in the environment of every service process
 * (the Dockerfiles, `npm start`, the demo and the tests); musl and other platforms ignore it.
 */
export const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=131072';

/** `env` with MALLOC_TUNABLES added to GLIBC_TUNABLES, unless it already sets the threshold. */
export function withMallocTunables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const current = env['GLIBC_TUNABLES'];
  if (current?.includes('glibc.malloc.mmap_threshold')) return env;
  return { ...env, GLIBC_TUNABLES: current ? `${current}:${MALLOC_TUNABLES}` : MALLOC_TUNABLES };
}
