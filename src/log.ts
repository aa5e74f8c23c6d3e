/**
 * Logging to stderr only: stdout is the stdio transport's protocol channel, and MCP's own logging is deprecated in
 * the 2026-07-28 revision. Every line passes through the redactor, so a secret never reaches a log.
 */
import { redact } from './redact.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const min = rank[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < min) return;
    let line = `kernel-mcp ${lvl}: ${message}`;
    if (fields && Object.keys(fields).length) {
      let extra: string;
      try {
        extra = JSON.stringify(fields, (_k, v) => (v instanceof Error ? v.message : v));
      } catch {
        extra = '[unserializable fields]';
      }
      line += ` ${extra}`;
    }
    write(`${redact(line)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
