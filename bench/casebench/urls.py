"""The product's URLs plus `bench/bare-insert`: the floor the intake API is compared with."""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from civicgrid.cases.models import Notification
from civicgrid.urls import urlpatterns as product_urls


@csrf_exempt
def bare_insert(request):
    """One INSERT of a small row, nothing else: the cheapest write a Django view can do."""
    row = Notification.objects.create(recipient_id=int(request.GET["u"]), verb="bench", text="x")
    return JsonResponse({"id": row.pk}, status=201)


urlpatterns = [path("bench/bare-insert", bare_insert), *product_urls]
