// A "Lineage" link for views that show an artifact but not the project's
// route (a job's outputs, the pipeline inspector): the link is made from the
// page's own route (links.ts).
import { lineageHrefFrom } from './links';

export function LineageLink({ digest, label = 'Lineage', className = '' }: { digest: string; label?: string; className?: string }) {
  const href = lineageHrefFrom(globalThis.location?.hash ?? '', digest);
  if (!href) return null;
  return (
    <a href={href} className={`lineage-link ${className}`.trim()} title={`How ${digest.slice(0, 12)} was made`} data-testid="lineage-link">
      {label}
    </a>
  );
}
