"""Core pages: home, sign-in, profile, search, people and support groups."""

from django.urls import path

from . import auth, files, groups, pages, people, tokens

app_name = 'itsm'
urlpatterns = [
    path('', pages.home, name='home'),
    path('login/', auth.LoginView.as_view(), name='login'),
    path('logout/', auth.LogoutView.as_view(), name='logout'),
    path('password/', auth.PasswordChangeView.as_view(), name='password_change'),
    path('password/done/', auth.PasswordChangeDoneView.as_view(), name='password_change_done'),
    path('profile/', pages.profile, name='profile'),
    path('profile/sign-out-everywhere/', auth.sign_out_everywhere, name='sign_out_everywhere'),
    path('profile/tokens/', tokens.token_list, name='token_list'),
    path('profile/tokens/<int:pk>/revoke/', tokens.token_revoke, name='token_revoke'),
    path('search/', pages.search, name='search'),
    path('attachments/<int:pk>/', files.attachment_download, name='attachment_download'),
    # People
    path('people/', people.UserListView.as_view(), name='user_list'),
    path('people/add/', people.UserCreateView.as_view(), name='user_add'),
    path('people/<int:pk>/', people.UserDetailView.as_view(), name='user_detail'),
    path('people/<int:pk>/edit/', people.UserEditView.as_view(), name='user_edit'),
    path('people/<int:pk>/deactivate/', people.UserDeactivateView.as_view(), name='user_deactivate'),
    path('people/<int:pk>/erase/', people.UserEraseView.as_view(), name='user_erase'),
    # Support groups
    path('groups/', groups.SupportGroupListView.as_view(), name='supportgroup_list'),
    path('groups/add/', groups.SupportGroupCreateView.as_view(), name='supportgroup_add'),
    path('groups/<int:pk>/', groups.SupportGroupDetailView.as_view(), name='supportgroup_detail'),
    path('groups/<int:pk>/edit/', groups.SupportGroupEditView.as_view(), name='supportgroup_edit'),
    path('groups/<int:pk>/delete/', groups.SupportGroupDeleteView.as_view(), name='supportgroup_delete'),
]
