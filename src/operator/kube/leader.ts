import type { ApiRequester } from "./apply.js";
import { paths } from "./apply.js";
import { KubeApiError } from "./client.js";

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
 * a candidate takes the Lease when it is free or its holder has not renewed within the lease
 * duration (measured on our own clock from when we last saw the record change), the leader
 * renews every retry period and steps down if it cannot renew within the renew deadline,
 * and a leader that shuts down releases the Lease so another takes over at once.
 */

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly onStartedLeading: () => void;
  /** Leadership lost (could not renew): the caller must stop reconciling at once. */
  readonly onStoppedLeading: () => void;
  readonly onError: (error: unknown) => void;
  readonly now?: () => number;
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export class LeaderElector {
  private observedVersion = "";
  private observedAt = 0;
  private expiresAt = 0;
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;

  constructor(
    private readonly api: ApiRequester,
    private readonly opts: LeaderElectionOptions,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (error) {
      this.opts.onError(error);
    }
    if (this.stopped) return;
    if (ok) {
      this.armDeadline();
      if (!this.leading) {
        this.leading = true;
        this.opts.onStartedLeading();
      }
    }
    const jitter = this.leading ? 1 : 1 + Math.random() * 0.2;
    const regular = Math.round(this.opts.retryPeriodMs * jitter);
    // a standby tries again right when the holder's Lease runs out, not up to a period later
    const untilExpiry = this.expiresAt - this.now() + 20;
    this.schedule(!this.leading && untilExpiry > 0 ? Math.min(regular, untilExpiry) : regular);
  }

  /**
   * A leader that has not renewed for renewDeadline steps down at that very moment, whatever
   * its own attempts are doing, so no standby can take over while it still acts.
   */
  private armDeadline(): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = setTimeout(() => {
      if (!this.leading) return;
      this.leading = false;
      this.opts.onStoppedLeading();
    }, this.opts.renewDeadlineMs);
  }

  /** One attempt; true when we hold the Lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const path = paths.lease(this.opts.namespace, this.opts.name);
    const now = this.now();
    const lease = await this.read(path);
    if (!lease) return this.create(now);
    const spec = lease.spec ?? {};
    const version = lease.metadata.resourceVersion ?? "";
    if (version !== this.observedVersion) {
      this.observedVersion = version;
      this.observedAt = now;
    }
    const holder = spec.holderIdentity ?? "";
    this.expiresAt = this.expiry(spec);
    if (holder !== "" && holder !== this.opts.identity && this.expiresAt > now) return false;
    return this.put(path, lease, this.nextSpec(spec, now), now);
  }

  /**
   * When the holder's Lease runs out: its renewTime plus the duration, where renewTime is
   * trusted only up to one retry period before we saw the renewal (client-go counts from our
   * own observation alone). A holder steps down after renewDeadline < leaseDuration - retryPeriod
   * without renewing, so taking over here never overlaps with it, and a standby takes over
   * within the lease duration of the last renewal instead of up to a retry period later.
   */
  private expiry(spec: LeaseSpec): number {
    const renewed = Date.parse(spec.renewTime ?? "");
    const floor = this.observedAt - this.opts.retryPeriodMs;
    const from = Number.isNaN(renewed) ? this.observedAt : Math.max(Math.min(renewed, this.observedAt), floor);
    return from + (spec.leaseDurationSeconds ?? 0) * 1000;
  }

  private nextSpec(spec: LeaseSpec, now: number): LeaseSpec {
    const mine = spec.holderIdentity === this.opts.identity;
    const transitions = spec.leaseTransitions ?? 0;
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.ceil(this.opts.leaseDurationMs / 1000),
      acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: mine ? transitions : transitions + 1,
    };
  }

  private async read(path: string): Promise<Lease | undefined> {
    try {
      return await this.api.request<Lease>("GET", path, { signal: this.timeout() });
    } catch (error) {
      if (error instanceof KubeApiError && error.notFound) return undefined;
      throw error;
    }
  }

  private async create(now: number): Promise<boolean> {
    const body: Lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: this.opts.name, namespace: this.opts.namespace },
      spec: { holderIdentity: this.opts.identity, leaseDurationSeconds: Math.ceil(this.opts.leaseDurationMs / 1000), acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
    };
    try {
      const created = await this.api.request<Lease>("POST", paths.lease(this.opts.namespace), { body, signal: this.timeout() });
      this.observe(created, now);
      return true;
    } catch (error) {
      if (error instanceof KubeApiError && error.conflict) return false;
      throw error;
    }
  }

  private async put(path: string, lease: Lease, spec: LeaseSpec, now: number): Promise<boolean> {
    try {
      const updated = await this.api.request<Lease>("PUT", path, { body: { ...lease, spec }, signal: this.timeout() });
      this.observe(updated, now);
      return true;
    } catch (error) {
      // someone else wrote the Lease since we read it: they won this round
      if (error instanceof KubeApiError && error.conflict) return false;
      throw error;
    }
  }

  /**
   * An attempt may take up to the renew deadline (as client-go's does) so a slow apiserver does
   * not cost the leadership; a hung request still ends, and the deadline timer decides stepping down.
   */
  private timeout(): AbortSignal {
    return AbortSignal.timeout(this.opts.renewDeadlineMs);
  }

  private observe(lease: Lease, now: number): void {
    this.observedVersion = lease.metadata.resourceVersion ?? "";
    this.observedAt = now;
  }

  /** Stop competing; a leader releases the Lease so a standby takes over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.deadline) clearTimeout(this.deadline);
    if (!this.leading) return;
    this.leading = false;
    const path = paths.lease(this.opts.namespace, this.opts.name);
    const lease = await this.api.request<Lease>("GET", path, { signal: this.timeout() });
    if (lease.spec?.holderIdentity !== this.opts.identity) return;
    const now = microTime(this.now());
    await this.put(path, lease, { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now, acquireTime: now }, this.now());
  }
}
