from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    """The landing page is the grid map until the workbenches exist."""
    return redirect("grids:map")
