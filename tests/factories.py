import datetime

import factory
from factory.django import DjangoModelFactory

from clinic.models import Location, Room, StaffProfile, User
from clinic.roles import user_set_roles
from patients.models import Patient


class LocationFactory(DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Clinic {n}")
    address = "1 High Street"
    phone = "+442079460000"
    time_zone = "Europe/London"


class RoomFactory(DjangoModelFactory):
    class Meta:
        model = Room

    location = factory.SubFactory(LocationFactory)
    name = factory.Sequence(lambda n: f"Room {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def roles(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            user_set_roles(self, extracted)


class StaffProfileFactory(DjangoModelFactory):
    class Meta:
        model = StaffProfile

    user = factory.SubFactory(UserFactory)
    display_name = factory.LazyAttribute(lambda p: f"{p.user.first_name} {p.user.last_name}")
    registration_number = factory.Sequence(lambda n: f"PH{n:06d}")


class PatientFactory(DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker(
        "date_between", start_date=datetime.date(1950, 1, 1), end_date=datetime.date(2008, 1, 1)
    )
    phone = factory.Sequence(lambda n: f"+447400{100000 + n % 900000:06d}")
    email = factory.LazyAttribute(lambda p: f"{p.first_name}.{p.last_name}@example.com".lower())
