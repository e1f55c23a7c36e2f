/**
 * The node flags a recorder process runs with (./rewind sets the same for recorder, up and demo): a young generation large enough for the
 * recording proxy's per-message garbage. With the NestJS stack loaded into the recorder, the default size let the
 * proxy's GC pauses grow five-fold (docs/benchmarks.md, "Issue 15: before and after").
 */
export const RECORDER_NODE_ARGS: readonly string[] = ['--max-semi-space-size=32'];
