// e2e tests talk to a real PostgreSQL on a possibly busy 2-core machine: Jest's 5 s default
// is far too short for the concurrency tests. (`testTimeout` inside a project entry of
// jest.config.js is ignored, hence this file.)
jest.setTimeout(120_000);
