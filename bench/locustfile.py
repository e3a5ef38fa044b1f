"""Front-desk users for the load scenario (``bench/load.py`` runs it; see its docstring).

Each simulated user is one of the benchmark's front-desk staff, signed in with a session
of their own, and between short pauses reads the day calendar and a clinician's week,
searches for patients as they type, opens a patient, looks for free times and books. Two
users may try the same free time at once: one gets it, the other is told it was taken —
a refusal the practice expects, not an error; so is being told that the patient (chosen at
random) already has an appointment then. Every other answer than the one a person would
get counts as a failure.
"""

import json
import os
import random
import secrets
import urllib.parse

from locust import HttpUser, between, events, task

PLAN = json.loads(open(os.environ["BENCH_PLAN"]).read())  # noqa: SIM115
BOOKED_FILE = os.environ["BENCH_BOOKED"]
booked: list[int] = []
refused: dict[str, int] = {"taken": 0, "patient busy": 0}
#: What the booking page says when another booking got there first (appointments/services.py).
TAKEN = ("That time was just taken", " already has ", "No room is free")
PATIENT_BUSY = "already has an appointment with"
_sessions = iter(PLAN["desk_sessions"])


class FrontDesk(HttpUser):
    # A person's pause between clicks; `load.py --pause "0 0.1"` drives the server to its ceiling.
    wait_time = between(*(float(x) for x in os.environ.get("BENCH_PAUSE", "0.5 2.5").split()))

    def on_start(self) -> None:
        self.csrf = secrets.token_hex(16)
        self.client.cookies.set("sessionid", next(_sessions))
        self.client.cookies.set("csrftoken", self.csrf)
        self.rng = random.Random()

    def _get(self, path: str, name: str, expect: str = "", **headers) -> None:
        with self.client.get(path, name=name, headers=headers, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            elif expect and expect not in response.text:
                response.failure(f"the answer lacks {expect!r}")

    def _patient(self) -> int:
        return self.rng.randrange(len(PLAN["patient_ids"]))

    @task(4)
    def day_view(self) -> None:
        query = urllib.parse.urlencode({"location": PLAN["location_id"], "date": PLAN["day"]})
        self._get(f"/appointments/?{query}", "day view", PLAN["location_name"])

    @task(2)
    def week_view(self) -> None:
        query = urllib.parse.urlencode(
            {"clinician": PLAN["week_clinician_id"], "date": PLAN["week_day"]}
        )
        self._get(f"/appointments/week/?{query}", "week view")

    @task(5)
    def search_as_you_type(self) -> None:
        n = self._patient()
        full = PLAN["full_names"][n]
        typed = self.rng.choice([PLAN["fragments"][n], full, PLAN["birth_dates"][n]])
        query = urllib.parse.urlencode({"q": typed})
        self._get(
            f"/patients/?{query}", "patient search (htmx)", "<table", **{"HX-Request": "true"}
        )

    @task(2)
    def patient_page(self) -> None:
        self._get(f"/patients/{PLAN['patient_ids'][self._patient()]}/", "patient page")

    @task(1)
    def find_free_times(self) -> None:
        query = urllib.parse.urlencode(
            {
                "appointment_type": PLAN["follow_up_type_id"],
                "location": PLAN["location_id"],
                "weeks": 2,
            }
        )
        self._get(f"/appointments/find/?{query}", "find a free time")

    @task(1)
    def book(self) -> None:
        slot = self.rng.choice(PLAN["booking_slots"])
        form = {
            "patient": self.rng.choice(PLAN["booking_patient_ids"]),
            "appointment_type": PLAN["follow_up_type_id"],
            "location": PLAN["location_id"],
            "clinician": slot["clinician"],
            "date": slot["date"],
            "time": slot["time"],
            "room": "",
            "notes": "",
            "csrfmiddlewaretoken": self.csrf,
        }
        with self.client.post(
            "/appointments/book/",
            data=form,
            name="booking (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                booked.append(int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1]))
            elif response.status_code == 200 and PATIENT_BUSY in response.text:
                refused["patient busy"] += 1
            elif response.status_code == 200 and any(m in response.text for m in TAKEN):
                refused["taken"] += 1  # taken a moment ago by someone else: told so
            else:
                response.failure(f"{response.status_code}: not booked, and not told why")


@events.test_stop.add_listener
def _write_booked(**kwargs) -> None:
    with open(BOOKED_FILE, "w") as out:
        json.dump({"booked": booked, "refused": refused}, out)
