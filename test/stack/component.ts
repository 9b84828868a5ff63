/**
 * The contract every piece of the local stack implements. The stack CLI (`npm run stack`)
 * provisions, starts and stops components through it; each component owns one file
 * (kafka.ts, clickhouse.ts, kube.ts, ...) and registers itself in components.ts.
 */
export interface StackContext {
  /** Repository root. */
  readonly root: string;
  /** Long-lived cache for downloads and builds (CLICKPIPES_STACK_CACHE, default ~/.cache/clickpipes-stack). */
  readonly cacheDir: string;
  /** Per-checkout runtime state: `.stack/` (pids, logs, data, env). */
  readonly stateDir: string;
  /** Directory of helper binaries exported as STACK_BIN (kubectl, helm, ...). */
  readonly binDir: string;
  /** Env already produced by components started earlier in this `up` (e.g. KUBECONFIG needs nothing, kubelet needs KUBECONFIG). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * The env this component published the last time it ran (undefined on first start).
   * start() must reuse its ports, users and files so a restarted component keeps its address.
   */
  readonly previous: Readonly<Record<string, string>> | undefined;
  /** Progress line for the user; long steps must call it at least every few seconds. */
  log(message: string): void;
}

export interface Component {
  readonly name: string;
  /** Names of components that must be started before this one. */
  readonly dependsOn?: readonly string[];
  /** Download/build whatever is missing into ctx.cacheDir. Idempotent; fast when cached. */
  provision(ctx: StackContext): Promise<void>;
  /** Start the component's processes (recording their pids with recordPid) and wait until ready. Returns the env lines it contributes. */
  start(ctx: StackContext): Promise<Record<string, string>>;
  /** True when every process is alive and the component answers its readiness check. */
  healthy(ctx: StackContext, env: Readonly<Record<string, string>>): Promise<boolean>;
  /** Stop only the processes this component started. */
  stop(ctx: StackContext): Promise<void>;
}
