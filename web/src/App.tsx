// The application shell. For now one page: the project list (with create).
// Later slices add the project view (pipelines, editor, executions); the
// client is passed in so a test or a script can point it anywhere.
import { ProjectsPage } from './ProjectsPage';
import type { KilnClient } from './api';

export function App({ client }: { client: KilnClient }) {
  return (
    <div className="app">
      <header className="app-header">
        <span className="logo" aria-hidden="true">
          ◆
        </span>
        <h1>Kiln</h1>
      </header>
      <main className="app-main">
        <ProjectsPage client={client} />
      </main>
    </div>
  );
}
