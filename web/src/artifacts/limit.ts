// The size limit of an upload, checked before a byte is sent. The server
// streams uploads to disk and has no limit unless started with
// `kiln serve --max-artifact-mb N`; it then says so in /health as
// `max_artifact_bytes` (0 or absent: none). It still answers 413 (over the
// limit) or 507 (not enough disk) with a message the view shows as is.
import type { Health } from '@kiln/client';
import { formatSize } from '../ui/format';

export const LIMIT_OPTION = 'kiln serve --max-artifact-mb';

/** The server's upload limit in bytes, or null when it has none (or does not say). */
export function uploadLimit(health: Health | null | undefined): number | null {
  const v = health?.['max_artifact_bytes'];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}

/**
 * Why a file cannot be uploaded, naming the limit and what raises it (the
 * views say which file); null when it fits.
 */
export function overLimit(size: number, limit: number | null): string | null {
  if (limit === null || size <= limit) return null;
  return `${formatSize(size)} is over this server's limit of ${formatSize(limit)} per artifact (${LIMIT_OPTION} raises it)`;
}
