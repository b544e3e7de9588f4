from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class RussianFirstLocaleMiddleware(LocaleMiddleware):
    """Pages are Russian unless the person picked English with the language switch.

    Django's LocaleMiddleware follows the browser's Accept-Language, so a browser set to
    English would never see the Russian default. Pages use only the language cookie; the API
    still honours Accept-Language, which a mobile app sets deliberately.
    """

    def process_request(self, request):
        if request.path.startswith("/api/"):
            return super().process_request(request)
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
