// One line of the job panel: where the job ran or waits ("ran on cluster,
// node gpu07, Slurm job 1234_7"), the id selectable for a terminal, the
// sacct command that shows what Slurm knows of it in its tooltip.
import type { Backend, Job } from '@kiln/client';
import { jobPlacement, slurmLookup } from './placement';
import '../compute/compute.css';

export function JobWhere({ job, backends }: { job: Job; backends: readonly Backend[] | null }) {
  const at = jobPlacement(job, backends);
  if (!at) return null;
  const lookup = slurmLookup(at, backends);
  return (
    <p className="placement job-where" data-testid="job-where">
      {at.verb} {at.place}
      {at.backendJob && (
        <>
          {at.place ? ', ' : ''}
          {at.idKind}{' '}
          <code title={lookup ? `What Slurm knows of it: ${lookup}` : undefined} data-testid="job-backend-id">
            {at.backendJob}
          </code>
        </>
      )}
    </p>
  );
}
