// The application shell: the header and the page for the current hash route
// (projects list, or a project with its views). The client is passed in so a
// test or a script can point it anywhere.
import type { KilnClient } from '@kiln/client';
import { ProjectsPage } from './ProjectsPage';
import { ProjectView } from './project/ProjectView';
import { useRoute } from './router';

export function App({ client }: { client: KilnClient }) {
  const route = useRoute();
  return (
    <div className={`app ${route.page === 'project' ? 'app-project' : ''}`}>
      <header className="app-header">
        <a className="brand" href="#/">
          <span className="logo" aria-hidden="true">
            ◆
          </span>
          <span>Kiln</span>
        </a>
      </header>
      {route.page === 'projects' && (
        <main className="app-main">
          <ProjectsPage client={client} />
        </main>
      )}
      {route.page === 'project' && (
        <ProjectView
          key={route.project}
          client={client}
          project={route.project}
          view={route.view}
          branch={route.branch}
          at={route.at}
        />
      )}
      {route.page === 'not-found' && (
        <main className="app-main">
          <div className="state error" role="alert">
            <p>There is no page at “{route.path}”.</p>
            <a href="#/">Go to the projects</a>
          </div>
        </main>
      )}
    </div>
  );
}
