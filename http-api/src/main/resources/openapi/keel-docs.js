// Swagger UI over the node's own OpenAPI document. validatorUrl null: the page reaches nothing but
// the node. persistAuthorization false: a token typed into "Authorize" lives only as long as the page.
window.ui = SwaggerUIBundle({
  url: "v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: false,
  tryItOutEnabled: false
});
