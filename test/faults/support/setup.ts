import { keepAlive } from './http';
import { killAllServices } from './service';

// Whatever a fault test file did or failed to do: no service process and no keep-alive socket
// outlives it.
afterAll(async () => {
  await killAllServices();
  keepAlive.destroy();
});
