// systemd's readiness and watchdog protocol (sd_notify(3)) for `Type=notify` units. Node has no
// unix datagram sockets, so the messages go through systemd-notify(1); since systemd 246 it waits
// on a barrier before exiting, so the short-lived sender is still attributed to our unit (which
// needs NotifyAccess=all). Outside systemd (no NOTIFY_SOCKET) every call is a no-op.
import { execFile } from 'node:child_process';

export interface NotifierEnv {
  NOTIFY_SOCKET?: string;
  WATCHDOG_USEC?: string;
  WATCHDOG_PID?: string;
}

export interface SystemdNotifierOptions {
  env?: NotifierEnv;
  /** The helper binary; tests point it at a recorder. */
  command?: string;
  /** Asked before each watchdog ping: a wedged agent must stop petting so systemd restarts it. */
  healthy?: () => boolean;
  onError?: (err: Error) => void;
}

export class SystemdNotifier {
  private readonly env: NotifierEnv;
  private readonly command: string;
  private readonly healthy: () => boolean;
  private readonly onError: (err: Error) => void;
  private timer: NodeJS.Timeout | null = null;

  constructor(options: SystemdNotifierOptions = {}) {
    this.env = options.env ?? process.env;
    this.command = options.command ?? 'systemd-notify';
    this.healthy = options.healthy ?? (() => true);
    this.onError = options.onError ?? (() => undefined);
  }

  get enabled(): boolean {
    return Boolean(this.env.NOTIFY_SOCKET);
  }

  /**
   * The watchdog interval systemd expects, halved as sd_watchdog_enabled(3) advises; null when no
   * watchdog is configured for this process.
   */
  get watchdogIntervalMs(): number | null {
    const usec = Number(this.env.WATCHDOG_USEC);
    if (!this.enabled || !Number.isFinite(usec) || usec <= 0) return null;
    if (this.env.WATCHDOG_PID && Number(this.env.WATCHDOG_PID) !== process.pid) return null;
    return Math.max(100, Math.floor(usec / 1000 / 2));
  }

  /** READY=1 plus a status line shown by `systemctl status`, then starts the watchdog pings. */
  ready(status: string): void {
    this.send(['--ready', `--status=${status}`]);
    const interval = this.watchdogIntervalMs;
    if (interval !== null && !this.timer) {
      this.timer = setInterval(() => {
        if (this.healthy()) this.send(['WATCHDOG=1']);
      }, interval);
      this.timer.unref();
    }
  }

  stopping(): void {
    this.stopWatchdog();
    this.send(['STOPPING=1']);
  }

  stopWatchdog(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private send(args: string[]): void {
    if (!this.enabled) return;
    execFile(this.command, args, { env: { ...process.env, NOTIFY_SOCKET: this.env.NOTIFY_SOCKET } }, (err) => {
      if (err) this.onError(err);
    });
  }
}
