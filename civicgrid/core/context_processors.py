from django.conf import settings


def site(request):
    return {
        "SITE_NAME": "网格化社会治理平台",
        "TILE_URL": settings.TILE_URL,
        "TILE_ATTRIBUTION": settings.TILE_ATTRIBUTION,
        "TILE_CRS": settings.TILE_CRS,
    }
