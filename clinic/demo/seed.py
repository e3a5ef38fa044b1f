"""Builds the demo practice. Each ``seed_*`` function is idempotent."""

import datetime
import random

from django.utils import timezone

from clinic.demo.clinical import seed_clinical
from clinic.demo.schedule import seed_schedule
from clinic.models import Discipline, Location, Room, StaffProfile, User
from clinic.roles import Role, user_set_roles
from patients.models import ActivityLevel, Funding, Patient, Sex

DEMO_PASSWORD = "demo"
PATIENT_COUNT = 200
# Dates of birth count back from a fixed day so that a run on another day finds the same people.
BIRTH_REFERENCE_DAY = datetime.date(2026, 1, 1)

LOCATIONS = [
    {
        "name": "Riverside Clinic",
        "address": "12 Riverside Walk\nLondon",
        "phone": "+442079460000",
        "time_zone": "Europe/London",
        "rooms": ["Treatment room 1", "Treatment room 2", "Gym"],
    },
    {
        "name": "Northgate Sports Injury Centre",
        "address": "4 Northgate Street\nYork",
        "phone": "+441904000111",
        "time_zone": "Europe/London",
        "rooms": ["Room A", "Room B"],
    },
]

# username, first, last, roles, registration number, colour, locations (indexes), DN cert
STAFF = [
    ("physio", "Priya", "Shah", [Role.PHYSIOTHERAPIST], "PH123456", "#2a9d8f", [0, 1], True),
    ("tom.baker", "Tom", "Baker", [Role.PHYSIOTHERAPIST], "PH234567", "#e76f51", [0], False),
    ("ana.costa", "Ana", "Costa", [Role.PHYSIOTHERAPIST], "PH345678", "#6a4c93", [1], False),
    (
        "sam.okafor",
        "Sam",
        "Okafor",
        [Role.PHYSIOTHERAPIST, Role.PRACTICE_MANAGER],
        "PH456789",
        "#f4a261",
        [0],
        False,
    ),
    ("frontdesk", "Fran", "Miller", [Role.FRONT_DESK], "", "#adb5bd", [0, 1], False),
    ("manager", "Morgan", "Reid", [Role.PRACTICE_MANAGER], "", "#495057", [0, 1], False),
]

FIRST_NAMES = [
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Isabella",
    "Sophia",
    "Grace",
    "Freya",
    "Emily",
    "Zoë",
    "Chloe",
    "Evie",
    "Aisha",
    "Maya",
    "Hannah",
    "Ruby",
    "Ella",
    "Noah",
    "Oliver",
    "George",
    "Arthur",
    "Leo",
    "Harry",
    "Oscar",
    "Archie",
    "Henry",
    "Jack",
    "Muhammad",
    "Theo",
    "Charlie",
    "Jacob",
    "Freddie",
    "Alfie",
    "Joshua",
    "Rohan",
    "Kai",
    "Seán",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Walker",
    "Wright",
    "Robinson",
    "Thompson",
    "White",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Wood",
    "Harris",
    "Lewis",
    "Martin",
    "Jackson",
    "Clarke",
    "Clark",
    "Turner",
    "Hill",
    "Scott",
    "Cooper",
    "Morris",
    "Ward",
    "Moore",
    "King",
    "Watson",
    "Baker",
    "Harrison",
    "Morgan",
    "Patel",
    "Young",
    "Allen",
    "Mitchell",
    "James",
    "Anderson",
    "Phillips",
    "Lee",
    "Bell",
    "Parker",
    "Davis",
    "O'Brien",
    "Nowak",
    "Kowalski",
    "Nguyen",
]
SPORTS = [
    "Running",
    "Football",
    "Netball",
    "Cycling",
    "Basketball",
    "Dance",
    "Hockey",
    "Tennis",
    "Parkrun",
    "Rugby",
    "Climbing",
    "Volleyball",
    "",
    "",
    "",
]
OCCUPATIONS = [
    "Teacher",
    "Nurse",
    "Software developer",
    "Student",
    "Electrician",
    "Accountant",
    "Retail assistant",
    "Chef",
    "Postal worker",
    "Retired",
    "Barista",
    "Engineer",
]
INSURERS = ["Bupa", "AXA Health", "Vitality", "Aviva"]
REFERRERS = ["Self", "GP", "Running club", "Coach", "Friend", "Web search", "Consultant"]


def seed_all() -> list[str]:
    locations = seed_locations()
    staff = seed_staff(locations)
    patients = seed_patients(staff["frontdesk"])
    schedule = seed_schedule(locations, staff)
    clinical = seed_clinical(locations, staff)
    return [
        f"Locations: {len(locations)} with {Room.objects.count()} rooms",
        f"Staff: {len(staff)} demo sign-ins plus admin",
        f"Patients: {patients} demo patients",
        *schedule,
        *clinical,
    ]


def seed_locations() -> list[Location]:
    locations = []
    for spec in LOCATIONS:
        location, _ = Location.objects.get_or_create(
            name=spec["name"],
            defaults={k: spec[k] for k in ("address", "phone", "time_zone")},
        )
        for room_name in spec["rooms"]:
            Room.objects.get_or_create(location=location, name=room_name)
        locations.append(location)
    return locations


def seed_staff(locations: list[Location]) -> dict[str, User]:
    today = timezone.localdate()
    users = {}
    for username, first, last, roles, reg_no, colour, location_ix, dn in STAFF:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@example.com",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user_set_roles(user, roles)
        profile, _ = StaffProfile.objects.get_or_create(
            user=user,
            defaults={
                "display_name": f"{first} {last}",
                "registration_number": reg_no,
                "discipline": Discipline.PHYSIOTHERAPY if reg_no else Discipline.ADMINISTRATION,
                "calendar_colour": colour,
                "dry_needling_certified_on": today - datetime.timedelta(days=400) if dn else None,
                "dry_needling_expires_on": today + datetime.timedelta(days=700) if dn else None,
            },
        )
        profile.locations.set([locations[i] for i in location_ix])
        users[username] = user
    admin, created = User.objects.get_or_create(
        username="admin",
        defaults={"first_name": "Ada", "last_name": "Admin", "email": "admin@example.com"},
    )
    if created:
        admin.is_superuser = True
        admin.is_staff = True
        admin.set_password(DEMO_PASSWORD)
        admin.save()
    return users


def seed_patients(registered_by: User) -> int:
    rng = random.Random(20261121)
    today = timezone.localdate()
    existing = set(Patient.objects.values_list("first_name", "last_name", "date_of_birth"))
    new = []
    for _ in range(PATIENT_COUNT):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        # Anterior knee pain clusters in active teenagers and young adults.
        age = rng.choice(
            [rng.randint(13, 19), rng.randint(20, 40), rng.randint(20, 40), rng.randint(41, 85)]
        )
        dob = BIRTH_REFERENCE_DAY - datetime.timedelta(days=age * 365 + rng.randint(0, 364))
        insured = rng.random() < 0.3
        sport = rng.choice(SPORTS)
        patient = Patient(
            first_name=first,
            last_name=last,
            preferred_name=rng.choice(["", "", "", "", first[:3]]) if len(first) > 4 else "",
            date_of_birth=dob,
            sex=Sex.FEMALE if first in FIRST_NAMES[:20] else Sex.MALE,
            phone=f"+447400{rng.randint(100000, 999999):06d}",
            email=f"{first}.{last}{rng.randint(1, 99)}@example.com".lower().replace("'", ""),
            address=f"{rng.randint(1, 180)} {rng.choice(['High Street', 'Station Road', 'Church Lane', 'Mill Road', 'Park Avenue'])}",
            postcode=f"{rng.choice(['SE1', 'N7', 'YO1', 'YO24', 'E8'])} {rng.randint(1, 9)}{rng.choice('ABDEFGHJ')}{rng.choice('LNPQRSTU')}",
            emergency_contact_name=f"{rng.choice(FIRST_NAMES)} {last}",
            emergency_contact_phone=f"+447400{rng.randint(100000, 999999):06d}",
            emergency_contact_relationship=rng.choice(["Partner", "Parent", "Sibling", "Friend"]),
            referrer=rng.choice(REFERRERS),
            gp_name=f"Dr {rng.choice(LAST_NAMES)}",
            funding=Funding.INSURER if insured else Funding.SELF_PAY,
            insurer=rng.choice(INSURERS) if insured else "",
            policy_number=f"P{rng.randint(100000, 999999)}" if insured else "",
            occupation="Student" if age < 19 else rng.choice(OCCUPATIONS),
            sports=sport,
            activity_level=rng.choice(list(ActivityLevel.values))
            if sport
            else ActivityLevel.SEDENTARY,
            privacy_notice_accepted_on=today - datetime.timedelta(days=rng.randint(1, 900)),
            email_reminders=rng.random() < 0.8,
            sms_reminders=rng.random() < 0.5,
            allergy_tape_adhesive=rng.random() < 0.04,
            allergy_latex=rng.random() < 0.02,
            allergy_metal=rng.random() < 0.02,
            anticoagulants_or_bleeding_disorder=age > 60 and rng.random() < 0.2,
            needle_phobia=rng.random() < 0.05,
            created_by=registered_by,
        )
        # Every draw above happens for every patient, so the sequence and so the result
        # is the same on each run; only people not yet registered are added.
        if (first, last, dob) not in existing:
            existing.add((first, last, dob))
            new.append(patient)
    for patient in new:
        patient.save()
    return Patient.objects.count()
