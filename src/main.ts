import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { configureApp, createHttpAdapter } from './app.setup';
import { AppConfig } from './config/app-config';
import { PinoNestLogger } from './observability/logging/app-logger.service';
import { createRootLogger } from './observability/logging/root-logger';

const SHUTDOWN_DEADLINE_MS = 10_000;

async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  // Boot lines are held until configureApp installs the app's logger (LOG_LEVEL is known only
  // once the config is loaded); if the boot fails they are flushed, as JSON, at info level.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createHttpAdapter(), {
    bodyParser: false,
    forceCloseConnections: false,
    logger: new PinoNestLogger(createRootLogger({ level: 'info' })),
    bufferLogs: true,
  });
  configureApp(app);

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    logger.log(`${signal} received: finishing in-flight requests, then closing`);
    const deadline = setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    // A connection whose request was in flight at the signal stays open after its response
    // for Fastify's keepAliveTimeout (72 s), and the server's close waits for it: close each
    // connection as soon as it is idle instead. In-flight requests are left to finish.
    const server = app.getHttpServer();
    setInterval(() => server.closeIdleConnections(), 100).unref();
    app
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error(`shutdown failed: ${String(error)}`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  const port = app.get(AppConfig).get('PORT');
  // Every IPv4 interface (a container's too): Fastify alone would listen on localhost only.
  await app.listen(port, '0.0.0.0');
  logger.log(`Listening on http://localhost:${port} (Swagger UI at http://localhost:${port}/docs)`);
}

bootstrap().catch((error: unknown) => {
  new Logger('Bootstrap').fatal(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
