// Entry point of the Kiln editor page: mounts <App> with a same-origin API
// client (the C++ server serves both this page and /api/v1).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { KilnClient } from '@kiln/client';
import { App } from './App';
import './styles.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

createRoot(container).render(
  <StrictMode>
    <App client={new KilnClient()} />
  </StrictMode>,
);
