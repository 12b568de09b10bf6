/**
 * Babel plugin for the Jest sandbox only: rewrites `import.meta.url|filename|dirname` in ESM
 * packages transpiled to CommonJS. Unlike the usual plugin it never references `require`,
 * which some packages shadow with `const require = createRequire(import.meta.url)`.
 */
module.exports = function importMetaToCommonJs({ types: t }) {
  return {
    name: 'import-meta-to-commonjs',
    visitor: {
      MetaProperty(path) {
        if (path.node.meta.name !== 'import' || path.node.property.name !== 'meta') return;
        const parent = path.parentPath;
        if (!parent.isMemberExpression() || parent.node.computed) {
          parent.replaceWith(
            t.objectExpression([
              t.objectProperty(
                t.identifier('url'),
                t.binaryExpression('+', t.stringLiteral('file://'), t.identifier('__filename')),
              ),
            ]),
          );
          return;
        }
        const name = parent.node.property.name;
        if (name === 'url') {
          parent.replaceWith(
            t.binaryExpression('+', t.stringLiteral('file://'), t.identifier('__filename')),
          );
        } else if (name === 'filename') {
          parent.replaceWith(t.identifier('__filename'));
        } else if (name === 'dirname') {
          parent.replaceWith(t.identifier('__dirname'));
        } else if (name === 'resolve') {
          // import.meta.resolve(spec) → ('file://' + require.resolve(spec))
          parent.replaceWith(
            t.arrowFunctionExpression(
              [t.identifier('spec')],
              t.binaryExpression(
                '+',
                t.stringLiteral('file://'),
                t.callExpression(
                  t.memberExpression(t.identifier('require'), t.identifier('resolve')),
                  [t.identifier('spec')],
                ),
              ),
            ),
          );
        }
      },
    },
  };
};
