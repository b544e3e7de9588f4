import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Tier, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    surname = "Иванов"
    first_name = "Иван"
    region = "77"
    phone = factory.Sequence(lambda n: f"+7912{n:07d}")
    phone_confirmed = True
    email = factory.Sequence(lambda n: f"user{n}@example.ru")
    email_confirmed = True
    tier = Tier.SIMPLIFIED
    password = factory.LazyFunction(lambda: make_password("Correct-Horse-42"))
