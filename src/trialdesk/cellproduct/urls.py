"""URLs of the cell-product pages, mounted at /cellproduct/."""

app_name = "cellproduct"
urlpatterns: list = []
