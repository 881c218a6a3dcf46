"""API routes of integrations.addressbooks, mounted under /api/v1/address-books/."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
# Runs first: "runs/" must not be read as an address book's id.
router.register("runs", api.AddressBookRunViewSet, basename="address-book-run")
router.register("", api.AddressBookViewSet, basename="address-book")

urlpatterns = router.urls
