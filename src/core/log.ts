// Structured logs (pino): JSON for machines, pretty on a TTY for people. Secrets never reach a log line.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(opts: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const pretty = opts.pretty ?? process.stdout.isTTY;
  const options = {
    level: opts.level ?? process.env.SWITCHYARD_LOG_LEVEL ?? 'info',
    // Env values and credentials may be secrets: redact them wherever they appear in a log object.
    redact: {
      paths: ['env', '*.env', '*.*.env', 'password', '*.password', 'token', '*.token', 'apiToken', '*.apiToken', 'webhookSecret', '*.webhookSecret', 'authorization', '*.authorization', '*.headers.authorization', 'registries', '*.registries', 'authconfig', '*.authconfig'],
      censor: '[redacted]',
    },
    ...(pretty && !opts.destination ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

export const silentLogger: Logger = pino({ level: 'silent' });
