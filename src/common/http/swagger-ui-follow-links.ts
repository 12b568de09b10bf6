/**
 * A Swagger UI plugin, as page script (Nest's `customJsStr`), that follows the document's OpenAPI
 * links: when "Execute" answers with a response that has `links`, each linked operation's
 * parameters are filled in from that response (`$response.body#/transactionId`). So after a
 * deposit, GET /transactions/{transactionId} is ready to execute as pre-filled, as a person
 * going down the page expects.
 *
 * It is plain ES2017 in a string, not compiled TypeScript, because it runs in the browser: it
 * must not depend on the build's module format or helpers. It wraps `SwaggerUIBundle` (loaded
 * before this script, called by swagger-ui-init.js on `load`) to add itself to the plugins.
 */
export const SWAGGER_UI_FOLLOW_LINKS_JS = `
(function () {
  var bundle = window.SwaggerUIBundle;
  if (typeof bundle !== 'function') return;

  function pointer(body, expression) {
    var match = /^\\$response\\.body#(\\/.*)?$/.exec(expression);
    if (!match) return undefined;
    var value = body;
    var parts = (match[1] || '').split('/').slice(1);
    for (var i = 0; i < parts.length; i++) {
      if (value === null || typeof value !== 'object') return undefined;
      value = value[parts[i].replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return value;
  }

  function findOperation(spec, operationId) {
    var paths = spec.paths || {};
    for (var path in paths) {
      for (var method in paths[path]) {
        var operation = paths[path][method];
        if (operation && operation.operationId === operationId) {
          return { path: path, method: method, operation: operation };
        }
      }
    }
    return undefined;
  }

  function follow(system, path, method, res) {
    var spec = system.specSelectors.specJson().toJS();
    var operation = ((spec.paths || {})[path] || {})[String(method).toLowerCase()];
    var response = operation && operation.responses && operation.responses[String(res.status)];
    var links = (response && response.links) || {};
    var body = res.body !== undefined ? res.body : res.obj;
    if (typeof body === 'string') {
      try { body = JSON.parse(body); } catch (e) { return; }
    }
    for (var name in links) {
      var link = links[name];
      var target = findOperation(spec, link.operationId);
      if (!target) continue;
      var parameters = link.parameters || {};
      for (var paramName in parameters) {
        var value = pointer(body, parameters[paramName]);
        if (value === undefined || value === null) continue;
        var pathMethod = [target.path, target.method];
        var resolved = system.specSelectors.specJsonWithResolvedSubtrees();
        var declared = (
          resolved.getIn(['paths', target.path, target.method, 'parameters']) ||
          system.specSelectors.specJson().getIn(['paths', target.path, target.method, 'parameters']) ||
          system.Im.List()
        ).find(function (p) {
          return p.get('name') === paramName;
        });
        if (!declared) continue;
        // Swagger UI keys a parameter's value both by "in.name" and by "in.name.hash-<hash of
        // the parameter>" (the row's own key, which wins): set both.
        system.specActions.changeParam(pathMethod, paramName, declared.get('in'), String(value));
        system.specActions.changeParamByIdentity(pathMethod, declared, String(value));
      }
    }
  }

  function FollowLinks(system) {
    return {
      statePlugins: {
        spec: {
          wrapActions: {
            setResponse: function (original) {
              return function (path, method, res) {
                var result = original(path, method, res);
                try { follow(system, path, method, res); } catch (e) { console.warn('follow links', e); }
                return result;
              };
            },
          },
        },
      },
    };
  }

  function withFollowLinks(options) {
    options.plugins = (options.plugins || []).concat([FollowLinks]);
    return bundle(options);
  }
  for (var key in bundle) withFollowLinks[key] = bundle[key];
  window.SwaggerUIBundle = withFollowLinks;
})();
`;
