from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group

from .models import AccessEvent, Location, Room, StaffProfile, User
from .roles import Role, user_set_roles

# Roles are defined in clinic/roles.py and synced into groups; editing groups by hand
# would drift from that table, so the admin edits roles on the user instead.
admin.site.unregister(Group)


class RolesFieldMixin(forms.Form):
    roles = forms.MultipleChoiceField(
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="A person may hold several roles. Practice managers can use this admin site.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["roles"].initial = [role.value for role in self.instance.roles]


class StaffUserChangeForm(RolesFieldMixin, UserChangeForm):
    pass


class StaffUserCreationForm(RolesFieldMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email")


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    filter_horizontal = ["locations"]
    fields = [
        "display_name",
        "registration_number",
        "discipline",
        "calendar_colour",
        "locations",
        ("dry_needling_certified_on", "dry_needling_expires_on"),
    ]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = StaffUserChangeForm
    add_form = StaffUserCreationForm
    inlines = [StaffProfileInline]
    list_display = ["username", "full_name", "email", "role_list", "is_active", "last_login"]
    list_filter = ["is_active", "groups", "staff_profile__locations"]
    search_fields = ["username", "first_name", "last_name", "email", "staff_profile__display_name"]
    list_select_related = ["staff_profile"]
    ordering = ["last_name", "first_name"]
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"]}),
        ("Access", {"fields": ["is_active", "roles"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    superuser_fieldsets = [
        *fieldsets,
        ("Superuser only", {"fields": ["is_superuser"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "first_name",
                    "last_name",
                    "email",
                    "password1",
                    "password2",
                    "roles",
                ],
            },
        ),
    ]
    readonly_fields = ["last_login", "date_joined"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        return self.superuser_fieldsets if request.user.is_superuser else self.fieldsets

    def has_change_permission(self, request, obj=None) -> bool:
        # Only a superuser may change a superuser's account.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Staff who leave are deactivated so their records keep an author.
        return False

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        user_set_roles(form.instance, form.cleaned_data.get("roles", []))

    @admin.display(description="name", ordering="last_name")
    def full_name(self, obj: User) -> str:
        return str(obj)

    @admin.display(description="roles")
    def role_list(self, obj: User) -> str:
        names = {group.name for group in obj.groups.all()}
        return ", ".join(role.label for role in Role if role.value in names) or "—"


class RoomInline(admin.TabularInline):
    model = Room
    extra = 1
    fields = ["name", "active"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "time_zone"]
    search_fields = ["name", "address"]
    inlines = [RoomInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "active"]
    list_filter = ["active", "location"]
    list_select_related = ["location"]
    search_fields = ["name", "location__name"]
    autocomplete_fields = ["location"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "discipline",
        "registration_number",
        "dry_needling_certified_on",
        "dry_needling_expires_on",
    ]
    list_filter = ["discipline", "locations"]
    list_select_related = ["user"]
    search_fields = ["display_name", "registration_number", "user__username", "user__last_name"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["locations"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):
    """The access log, read-only: entries are only ever written by the application."""

    list_display = [
        "at",
        "username",
        "roles",
        "action",
        "object_type",
        "object_id",
        "patient_id",
        "outcome",
        "ip_address",
    ]
    list_filter = ["action", "outcome", "at"]
    search_fields = ["username"]
    show_full_result_count = False
    readonly_fields = [field.name for field in AccessEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
