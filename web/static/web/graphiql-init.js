// GraphiQL on /graphql: session requests carry the CSRF token (api_graphql/views.py checks it on POST).
(function () {
  var tokenInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  var fetcher = GraphiQL.createFetcher({
    url: window.location.pathname,
    headers: tokenInput ? { "X-CSRFToken": tokenInput.value } : {},
  });
  var params = new URLSearchParams(window.location.search);
  ReactDOM.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: params.get("query") || "{\n  firms(first: 5) {\n    totalCount\n    edges { node { uscc name currentStage { code name } } }\n  }\n}\n",
      headerEditorEnabled: true,
    }),
    document.getElementById("editor")
  );
})();
