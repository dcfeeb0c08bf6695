using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.Core.Infrastructure;

namespace CuratedIndex.Features.ReviewUi;

/// <summary>
/// A form post whose antiforgery token is missing or wrong gets a 400 that says so (the framework's own 400 has no
/// body, which leaves a reviewer staring at a blank page). Nothing of the post is acted on either way.
/// </summary>
public sealed class AntiforgeryFailureMessage : IAlwaysRunResultFilter
{
    public void OnResultExecuting(ResultExecutingContext context)
    {
        if (context.Result is IAntiforgeryValidationFailedResult)
        {
            context.Result = new ContentResult
            {
                StatusCode = StatusCodes.Status400BadRequest,
                ContentType = "text/plain; charset=utf-8",
                Content = "the form's antiforgery token is missing or not valid for this session: reload the page and submit the form again\n",
            };
        }
    }

    public void OnResultExecuted(ResultExecutedContext context)
    {
    }
}
