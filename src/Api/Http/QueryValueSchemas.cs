using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Ferry.Api.Http;

/// <summary>
/// Shows the lists' <see cref="QueryInt"/> and <see cref="QueryTime"/> parameters in the OpenAPI document as the
/// integer and date-time they are on the wire: the API explorer describes any type it binds with TryParse as a string.
/// </summary>
internal sealed class QueryValueSchemas : IParameterFilter
{
    public void Apply(IOpenApiParameter parameter, ParameterFilterContext context)
    {
        var type = context.ParameterInfo?.ParameterType ?? context.PropertyInfo?.PropertyType;
        type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
        OpenApiSchema? schema = type == typeof(QueryInt) ? new() { Type = JsonSchemaType.Integer, Format = "int32" }
            : type == typeof(QueryTime) ? new() { Type = JsonSchemaType.String, Format = "date-time" }
            : null;
        if (schema is not null && parameter is OpenApiParameter writable)
        {
            writable.Schema = schema;
        }
    }
}
