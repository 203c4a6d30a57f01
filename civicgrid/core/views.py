from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    """Staff who see regions land on the grid map; residents (who see no regions) on their
    own reports, so a resident never opens an empty map.

    Role data lives in accounts, above core, so the check goes through the user's
    `assignments` relation by name rather than importing the accounts app.
    """
    user = request.user
    resident_only = not user.is_superuser and not user.assignments.exclude(role="resident").exists()
    return redirect("cases:workbench" if resident_only else "grids:map")
