import { useRoute } from '../hooks/useRoute.js';
import { ComparePage } from './ComparePage.js';
import { Header } from './Header.js';
import { LessonPage } from './LessonPage.js';
import { LessonsPage } from './LessonsPage.js';
import { Link } from './Link.js';
import { NewRunPage } from './NewRunPage.js';
import { RunPage } from './RunPage.js';
import { RunsPage } from './RunsPage.js';

export function App() {
  const route = useRoute();
  return (
    <>
      <Header />
      <main className="page">
        {route.name === 'runs' && <RunsPage />}
        {route.name === 'new' && <NewRunPage />}
        {route.name === 'run' && <RunPage key={route.id} runId={route.id} />}
        {route.name === 'compare' && <ComparePage key={route.ids.join(',')} ids={route.ids} />}
        {route.name === 'lessons' && <LessonsPage />}
        {route.name === 'lesson' && <LessonPage key={route.id} lessonId={route.id} />}
        {route.name === 'missing' && (
          <div className="empty">
            <h2>Nothing here</h2>
            <p>
              <Link to="/">Back to the runs</Link>
            </p>
          </div>
        )}
      </main>
    </>
  );
}
