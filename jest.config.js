/**
 * Two projects: unit tests beside the code (src/**\/*.spec.ts) and e2e tests in test/ against
 * a real PostgreSQL (embedded unless DATABASE_URL is set; see test/support/global-setup.ts).
 *
 * NestJS 12 ships as ES modules. The app is compiled to CommonJS and loads them through
 * Node's require(esm); Jest's own module loader cannot do that on Node 20, so those packages
 * are transpiled to CommonJS by babel-jest inside the test sandbox only.
 */
const esmPackages = [
  '@nestjs',
  'uid',
  'path-to-regexp',
  'file-type',
  'strtok3',
  'token-types',
  '@tokenizer',
  'uint8array-extras',
  '@borewit',
  'es-toolkit',
  'load-esm',
  '@fastify/static',
  'content-disposition',
];
const shared = {
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    '^.+\\.m?js$': [
      'babel-jest',
      {
        babelrc: false,
        configFile: false,
        plugins: [
          '@babel/plugin-transform-modules-commonjs',
          '@babel/plugin-transform-dynamic-import',
          require.resolve('./test/support/babel-import-meta.js'),
        ],
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testEnvironment: 'node',
};

module.exports = {
  reporters: ['default', '<rootDir>/test/support/skipped-tests-reporter.js'],
  projects: [
    { ...shared, displayName: 'unit', rootDir: '.', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'e2e',
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/jest-e2e.setup.ts'],
    },
  ],
};
