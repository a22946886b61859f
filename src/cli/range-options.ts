// Options shared by the CLI commands that read the trail straight from Temporal (evidence export, policy replay).
import type { Settings } from '../config/settings';
import { AppError } from '../errors';

/** Where the CLI reaches Temporal: TEMPORAL_ADDRESS, else the embedded dev server's port on this machine. */
export function temporalAddress(settings: Settings): string {
  return settings.TEMPORAL_ADDRESS ?? `127.0.0.1:${settings.TEMPORAL_DEV_PORT}`;
}

/** An ISO date or time option. */
export function parseTime(field: string) {
  return (value: string): Date => {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) {
      throw new AppError('validation_failed', `--${field} is not a date or time`, {
        errors: [{ path: field, message: `"${value}" is not an ISO date or time` }],
      });
    }
    return date;
  };
}
