import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.local")

application = get_wsgi_application()

# What is loaded by now (Django, the apps, their modules and classes) lives as long as the
# worker. Frozen, the garbage collector's full passes no longer walk it: unfrozen, a full
# pass took 76 ms in the middle of whichever request set it off (docs/performance.md).
gc.collect()
gc.freeze()
