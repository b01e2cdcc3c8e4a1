// backup_manifest.json (SITE.md): {backup_type, timestamp (ISO), version, checksums: {relative
// path: sha256}, file_count, total_size_bytes}; it does not list itself. Extra keys are tolerated
// on reading (a newer writer may add some); cadence-ops adds `created_by` and, for safety
// snapshots, `scope`.
import { z } from 'zod';

export const manifestSchema = z.looseObject({
  backup_type: z.string().min(1),
  timestamp: z.string().min(1),
  version: z.string(),
  checksums: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/i, 'expected a sha256 in hex')),
  file_count: z.number().int().min(0),
  total_size_bytes: z.number().int().min(0),
});

export type BackupManifest = z.infer<typeof manifestSchema>;

export function parseManifest(text: string): { manifest: BackupManifest } | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { error: `not valid JSON (${(err as Error).message})` };
  }
  const result = manifestSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return { error: `${issue.path.map(String).join('.') || 'top level'}: ${issue.message}` };
  }
  return { manifest: result.data };
}
